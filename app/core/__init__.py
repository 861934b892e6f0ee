"""Core: everything the domain rooms stand on. No Qt here."""
