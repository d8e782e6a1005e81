"""The statistics plugin's map message (as the jms-map-json transformation writes it) to QueueStats."""

from finemeca.queue_stats import QueueStats, parse_statistics

BODY = (
    b'{"map":{"entry":[{"string":"dequeueCount","long":7},{"string":["brokerId","ID:x"]},'
    b'{"string":"consumerCount","long":2},{"string":"size","long":10000},'
    b'{"string":["destinationName","queue:\\/\\/DLQ.finemeca.air.data"]},{"string":"enqueueCount","long":10007},'
    b'{"string":"memoryPercentUsage","int":0},{"string":"averageEnqueueTime","double":0}]}}'
)


def test_parse_statistics_reads_depth_counts_and_name_without_scheme():
    assert parse_statistics(BODY) == QueueStats("DLQ.finemeca.air.data", 10000, 10007, 7, 2)
