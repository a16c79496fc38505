"""Room names shared by the namespaces and the broadcaster."""

STAFF_ROOM = "staff"


def conversation_room(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"
