"""The method: the playbook as data, and the rules that apply it (stage gates, deal states, scopes, the
daily log's chain)."""
