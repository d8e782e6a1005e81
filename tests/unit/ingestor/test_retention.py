"""Which daily indices the retention deletes: sensor data and queue-depth samples, by the day in the name."""

from datetime import date

from ingestor.indices import indices_older_than


def test_old_daily_indices_of_data_and_queue_depth_are_chosen_by_their_day():
    names = [
        "finemeca-air-data-2026.03.01",
        "finemeca-air-data-2026.03.09",
        "finemeca-queue-depth-2026.02.28",
        "finemeca-queue-depth-2026.03.10",
        "finemeca-deadletters",  # not daily: never deleted
    ]
    assert indices_older_than(names, 7, today=date(2026, 3, 10)) == [
        "finemeca-air-data-2026.03.01",
        "finemeca-queue-depth-2026.02.28",
    ]
