"""A member's data: what plnorg records about them (the transparency page),
the download of everything it holds, account deletion, and admins'
offboarding of a leaver. Each runs every app's part through the registry in
core.lifecycle."""
