"""Time on the clock: people log or time the time they spend on their PLN,
submit their week, and their manager approves it; the policy (allowance,
cost, counted activities), week locks, payroll exports and the reports the
dashboard reads. Workshop attendance records its time here."""
