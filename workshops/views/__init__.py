"""Workshop pages, by audience: `member` (list, detail, registering, my
workshops, calendars, feedback, the resource library, downloads) and
`facilitator` (create, edit, publish, roster, attendance, feedback answers,
materials). Time on the clock has its own app (workshops/clock/views.py)."""
