package worker

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/jacksmood/dispatch/campaigns"
)

// statsKey is the Redis hash of message outcome counts shared by all workers: field
// "<channel>:<status>" (sent, failed, skipped, retried), value the count since Redis started.
const statsKey = "dispatch:stats:messages"

// RedisMetrics counts outcomes in Redis, so that `dispatch serve` can export the counts of every
// worker from one /metrics. Counts carry no ids, only channel and status.
type RedisMetrics struct {
	rdb *redis.Client
}

// NewRedisMetrics returns metrics kept in rdb.
func NewRedisMetrics(rdb *redis.Client) *RedisMetrics { return &RedisMetrics{rdb: rdb} }

// Outcome adds n to the channel's count of status. Failures to count are ignored: metrics never stop
// a send.
func (m *RedisMetrics) Outcome(ch campaigns.Channel, status Outcome, n int) {
	if n <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m.rdb.HIncrBy(ctx, statsKey, string(ch)+":"+string(status), int64(n))
}

// MessagesCollector exports the counts as the Prometheus counter dispatch_messages_total{channel,status}.
type MessagesCollector struct {
	rdb  *redis.Client
	desc *prometheus.Desc
}

// NewMessagesCollector returns a collector reading the counts from rdb.
func NewMessagesCollector(rdb *redis.Client) *MessagesCollector {
	return &MessagesCollector{rdb: rdb, desc: prometheus.NewDesc("dispatch_messages_total",
		"Messages handled by the workers, by channel and outcome (sent, failed, skipped at send time, retried).",
		[]string{"channel", "status"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *MessagesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *MessagesCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.rdb.HGetAll(ctx, statsKey).Result()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for field, v := range counts {
		channel, status, ok := strings.Cut(field, ":")
		n, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, n, channel, status)
	}
}
