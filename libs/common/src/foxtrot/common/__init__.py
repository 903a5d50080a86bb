"""Foxtrot's contracts and plumbing, shared by every service."""
