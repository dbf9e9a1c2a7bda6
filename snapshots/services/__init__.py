"""One function per user action. Views call services; services call the gateway and the models."""
