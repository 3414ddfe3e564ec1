"""The feeds' forms, one module per group of pages (as feeds/views/): `pln`
(adding, editing and importing subscriptions), `stream` (filters, reports,
moderation) and `curation` (picks, recommendations, starter packs, network)."""
