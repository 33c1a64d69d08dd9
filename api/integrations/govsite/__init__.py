"""The government website / information-disclosure platform connector (政府网站、信息公开).
Docs: docs/integrations.md#government-website."""
