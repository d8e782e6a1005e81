"""Fault suite, Mosquitto durability probe and the soak: `finemeca bench reliability`, `finemeca soak`."""
