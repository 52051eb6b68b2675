"""E-mail drafts from templates (`/ticket email`): kinds and rules, templates, Redis store, posting."""
