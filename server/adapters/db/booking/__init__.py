"""The booking store, one module per concept; ``booking_store.BookingStore`` joins them."""
