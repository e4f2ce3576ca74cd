"""Calendars and tables in and out: iCalendar and CSV import and export, Wikidata's
participation facts, and the organisations' calendars the daemon polls."""
