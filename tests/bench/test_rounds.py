"""Rounds of ours and Telegraf: the column shown is each pipeline's median round, the ratio the median of
the rounds' ratios (pure logic)."""

from tools.bench.figures import RunFigures
from tools.bench.report import rounds_line
from tools.bench.suite import PipelineOptions, PipelineResult, median_run


def run(label: str, docs_per_s: float) -> RunFigures:
    figures = RunFigures(label, 10_000)
    figures.searchable, figures.end_to_end_seconds = int(docs_per_s * 10), 10.0
    return figures


def test_median_run_is_the_middle_throughput_and_the_lower_middle_for_an_even_count():
    runs = [run("a", 300), run("b", 100), run("c", 200)]
    assert median_run(runs).label == "c"
    assert median_run([run("a", 300), run("b", 100)]).label == "b"


def test_peer_ratio_is_the_median_of_each_rounds_ratio_not_the_ratio_of_medians():
    ours = [run("ours", 100), run("ours", 300), run("ours", 200)]
    peer = [run("peer", 100), run("peer", 100), run("peer", 400)]  # ratios 1.0, 3.0, 0.5
    result = PipelineResult(PipelineOptions(), ours, run("naive", 10), None, peer, [False, True, False])
    assert result.round_ratios == [1.0, 3.0, 0.5]
    assert result.peer_ratio == 1.0
    assert result.ours.throughput == 200 and result.telegraf is not None and result.telegraf.throughput == 100
    line = rounds_line(result)
    assert "1: 100 / 100 = 1.00 (ours first)" in line and "2: 300 / 100 = 3.00 (Telegraf first)" in line


def test_one_round_or_no_peer_has_no_rounds_line():
    single = PipelineResult(PipelineOptions(), [run("ours", 100)], run("naive", 10), None, [run("p", 50)])
    assert single.peer_ratio == 2.0 and rounds_line(single) == ""
    no_peer = PipelineResult(PipelineOptions(), [run("ours", 1), run("ours", 2)], run("naive", 1))
    assert no_peer.peer_ratio is None and rounds_line(no_peer) == ""
