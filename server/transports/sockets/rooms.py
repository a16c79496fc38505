"""Room names shared by the namespaces and the broadcaster."""

STAFF_ROOM = "staff"
# /relative sockets of waiting conversations that derive their position from the `queue` broadcast.
WAITING_ROOM = "waiting"
# Sockets of staff who may see the supervisors' live view (supervision.view).
SUPERVISORS_ROOM = "supervisors"


def conversation_room(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"
