"""Sample strategies that ship with Foxtrot."""
