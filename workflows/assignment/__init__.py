"""Who does which step: project leaders of a county share its steps and processes (claim, hand
over, take over a colleague's work), each change on the record and emailed to the new assignee.

`services` holds the writes, `selectors` the reads (the inbox's tabs, a person's open work),
`views` and `forms` the pages. Who may act: a project leader of the process's county
(`municipalities.selectors.can_lead`), and only towards another leader of that county.
"""
