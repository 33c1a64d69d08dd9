"""HTTP surfaces of the personal office: calendar, notes, contacts, delegations.
Docs: docs/personal-office.md#api."""
