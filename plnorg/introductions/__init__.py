"""Introductions: a member or a leader introduces two colleagues, each accepts
or declines, and later says whether they met; who might meet whom
(suggestions) and who connects communities (connectors), computed nightly;
the funnel leaders see."""
