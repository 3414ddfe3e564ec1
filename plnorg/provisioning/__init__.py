"""Provisioning: the organization's identity provider (Okta, Microsoft Entra ID)
creates, changes and deactivates members and teams through SCIM 2.0
(RFC 7643/7644) at /scim/v2/.

Written here rather than with django-scim2 (checked: 0.23.0, Django 5.2): that
library authenticates through `request.user` (a bearer token per identity
provider is not a user), expects SCIM id/externalId columns on the user and
group models and a many-to-many user-group relation (plnorg's Member has one
team), turns filters into raw SQL and counts and pages results in Python,
writes `status` as a number and `active` only as a JSON boolean (Entra ID
sends "False"), deletes rows on DELETE, and saves outside a transaction. Each
of those would have to be overridden, which leaves little of it. What is
here: `protocol` (content type, schema URNs, errors), `filters` (the filter
grammar to Django Q objects), `patch` (PATCH operations), `resources`
(members and teams as SCIM resources), `discovery` (ServiceProviderConfig,
Schemas, ResourceTypes), `auth` (the bearer token and the limit on failed
attempts), `services` (the writes, each in one transaction) and thin views.
"""
