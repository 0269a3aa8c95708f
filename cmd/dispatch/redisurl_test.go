package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

// DISPATCH_REDIS_URL names one server or a master through Redis Sentinel; every malformed form is
// refused with what is wrong.
func TestRedisURLForms(t *testing.T) {
	t.Parallel()
	opt, err := redisOpt("redis-sentinel://app:s%40cret@10.0.0.1:26379,10.0.0.2:26379,sentinel3.internal:26380/2?master=dispatch&sentinel_password=sp")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := opt.(asynq.RedisFailoverClientOpt)
	want := asynq.RedisFailoverClientOpt{MasterName: "dispatch", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "sentinel3.internal:26380"},
		SentinelPassword: "sp", Username: "app", Password: "s@cret", DB: 2}
	if !ok || !reflect.DeepEqual(f, want) {
		t.Fatalf("the Sentinel URL gives %#v\nwant %#v", opt, want)
	}
	opt, err = redisOpt("rediss-sentinel://10.0.0.1:26379?master=m")
	if f, ok := opt.(asynq.RedisFailoverClientOpt); err != nil || !ok || f.TLSConfig == nil || f.DB != 0 {
		t.Fatalf("rediss-sentinel: %#v, %v; want TLS, database 0", opt, err)
	}
	opt, err = redisOpt("redis://:pw@127.0.0.1:6380/4")
	if c, ok := opt.(asynq.RedisClientOpt); err != nil || !ok || c != (asynq.RedisClientOpt{Addr: "127.0.0.1:6380", Password: "pw", DB: 4}) {
		t.Fatalf("redis://: %#v, %v", opt, err)
	}
	for url, wantErr := range map[string]string{
		"redis-sentinel://10.0.0.1:26379/0":                   "needs ?master=",
		"redis-sentinel://10.0.0.1:26379/0?master=m&db=3":     "unknown parameter db: want master",
		"redis-sentinel://10.0.0.1,10.0.0.2:26379/0?master=m": "sentinel 1 of 2 is not host:port",
		"redis-sentinel://10.0.0.1:26379/zero?master=m":       "the database (the URL's path) is not a number",
		"memcached://10.0.0.1:11211":                          "the scheme is not redis",
		"localhost:6379":                                      "want a URL like",
		"redis-sentinel:///0?master=m":                        "sentinel 1 of 1 is not host:port",
	} {
		_, err := redisOpt(url)
		if err == nil || !strings.HasPrefix(err.Error(), "DISPATCH_REDIS_URL: ") || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %v, want DISPATCH_REDIS_URL: …%s…", url, err, wantErr)
		}
	}
}
