"""PolicyFlow's own date and time formats (FORMAT_MODULE_PATH), one module per language.

A date on a page must read the same to everyone: never 03/06/2027 (March or June?) nor a 12-hour
clock. Short forms are ISO 8601 (2026-12-06, 2026-12-06 14:31) in both languages; long forms
name the month (6 december 2026, 6 Dec 2026) with a 24-hour clock. Dates typed into forms are
read only as ISO (the browsers' date fields send that): 06/12/2026 is refused, not guessed.
Settings a module leaves out come from Django's own locale (numbers, first day of the week).
"""
