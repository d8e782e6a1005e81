"""Pure statistics of the benchmark."""

from tools.bench.figures import RunFigures, count_at, delivery_span, percentile, window_rates

COUNTS = [(0.0, 0), (1.0, 0), (2.0, 100), (3.0, 300), (4.0, 400), (5.0, 400)]


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 50) is None


def test_count_interpolates_between_samples():
    assert count_at(COUNTS, 2.5) == 200
    assert count_at(COUNTS, -1) == 0
    assert count_at(COUNTS, 10) == 400


def test_delivery_span_and_windows():
    assert delivery_span(COUNTS) == (1.0, 4.0)
    assert delivery_span([(0.0, 5), (1.0, 5)]) is None
    assert window_rates(COUNTS, 1.0, 4.0, 3) == [100, 200, 100]


def test_rates_and_loss():
    figures = RunFigures("ours", 100, published=1000, publish_seconds=10, searchable=990, missing=10)
    figures.end_to_end_seconds = 11
    assert figures.publish_rate == 100
    assert figures.throughput == 90
    assert figures.loss_percent == 1.0
