"""The reader's workflows: read state (``read_state``), app passwords
(``app_passwords``), and the stream as the reading APIs see it (``streams``)."""
