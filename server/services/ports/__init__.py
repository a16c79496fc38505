"""What services need from the outside world, one module per use case, passed in by create_app
(or by tests). Import from the modules: ``from server.services.ports.chat import ChatRepository``."""
