"""Management: business-impact cards in the management channel, the digest, `/ticket summary`."""
