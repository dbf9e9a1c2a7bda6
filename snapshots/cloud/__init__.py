"""Everything that talks to the cloud. Only gateway.py imports openstacksdk."""
