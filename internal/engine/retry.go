package engine

import (
	"math"
	"time"

	"github.com/weir-dev/weir/internal/spec"
)

// Defaults the KFP SDK writes when set_retry leaves them out.
const (
	defaultBackoffFactor = 2.0
	defaultBackoffMax    = time.Hour
)

// retryAllowed reports whether a task whose attempts-th attempt just failed
// gets another one.
func retryAllowed(p *spec.RetryPolicy, attempts int) bool {
	return p != nil && attempts <= p.MaxRetryCount
}

// retryDelay is how long to wait after the failed attempt number n (1-based)
// before the next: backoffDuration x backoffFactor^(n-1), capped by
// backoffMaxDuration.
func retryDelay(p *spec.RetryPolicy, n int) time.Duration {
	if p == nil || n < 1 {
		return 0
	}
	base, err := time.ParseDuration(p.BackoffDuration)
	if err != nil || base < 0 {
		base = 0
	}
	limit, err := time.ParseDuration(p.BackoffMaxDuration)
	if err != nil || limit <= 0 {
		limit = defaultBackoffMax
	}
	factor := p.BackoffFactor
	if factor <= 0 {
		factor = defaultBackoffFactor
	}
	d := float64(base) * math.Pow(factor, float64(n-1))
	if d > float64(limit) || math.IsInf(d, 0) || math.IsNaN(d) {
		return limit
	}
	return time.Duration(d)
}
