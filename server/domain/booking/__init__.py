"""Booking rules, one concept a module: local_time (wall-clock minutes to instants across
daylight-saving changes), availability (a counsellor's weekly windows and exceptions), kinds
(appointment kinds and group schedules), slots (free times and choosing a counsellor), phones
(mobile numbers) and appointments (the appointment's states). Pure: times come in as aware
datetimes and leave as UTC."""
