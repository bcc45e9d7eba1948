"""Stage 4, verification: published vs reproduced numbers, internal consistency, the privacy scan,
the manifest and the reviewers' package."""
