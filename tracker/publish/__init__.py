"""Feeds for readers and calendars: RSS, Atom and iCalendar files built from the database."""
