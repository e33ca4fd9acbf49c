package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// serverRSSTarget is the idle resident set size the project aims at for
// `weir server` (reported, never asserted).
const serverRSSTarget = 50 << 20

// rssReads VmRSS reads, rssGap apart, make one measurement (their median).
const (
	rssReads = 5
	rssGap   = 100 * time.Millisecond
)

// mibDuration carries a byte count in the result's time columns: 1 MiB is
// shown as 1 ms (report.go formats durations only).
func mibDuration(n int64) time.Duration {
	return time.Duration(float64(n) / (1 << 20) * float64(time.Millisecond))
}

// serverIdleRSS starts `weir server` on a fresh WEIR_HOME, leaves it idle
// for serverIdleWait and reads its VmRSS; the baseline is a `sleep`
// started at the same time and read the same way.
func (b *bench) serverIdleRSS(ctx context.Context) (*result, error) {
	r := &result{Name: "server-idle-rss", Steps: 1, TargetWall: mibDuration(serverRSSTarget),
		Baseline: "VmRSS of `sleep 10`; MiB, shown in the ms columns"}
	fmt.Printf("   weir server on a fresh WEIR_HOME, idle %s after it answers healthz; VmRSS = median of %d reads of /proc/PID/status %s apart; baseline `sleep 10` started with it, read the same way\n",
		serverIdleWait, rssReads, rssGap)
	var servers, sleeps []int64
	var anon, file, hwm []float64
	for i := 0; i < b.reps; i++ {
		home, err := b.newHome(r.Name)
		if err != nil {
			return r, err
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		sleep := exec.CommandContext(sctx, "sleep", "10")
		if err := sleep.Start(); err != nil {
			cancel()
			return r, fmt.Errorf("baseline: %w", err)
		}
		stopSleep := func() {
			_ = sleep.Process.Kill()
			_ = sleep.Wait()
			cancel()
		}
		srv, err := b.startServer(ctx, home)
		if err != nil {
			stopSleep()
			return r, err
		}
		var rss, base int64
		err = sleepCtx(ctx, serverIdleWait)
		if err == nil {
			rss, err = rssMedian(ctx, srv.pid, rssReads, rssGap)
		}
		if err == nil {
			base, err = rssMedian(ctx, sleep.Process.Pid, rssReads, rssGap)
		}
		if err == nil {
			// What the resident pages are (one read).
			for _, f := range []struct {
				name string
				into *[]float64
			}{{"RssAnon", &anon}, {"RssFile", &file}, {"VmHWM", &hwm}} {
				if kb, ferr := procStatus(srv.pid, f.name); ferr == nil {
					*f.into = append(*f.into, float64(kb)*1024)
				}
			}
		}
		stopSleep()
		if serr := srv.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return r, err
		}
		servers, sleeps = append(servers, rss), append(sleeps, base)
		r.Weir = append(r.Weir, mibDuration(rss))
		r.Base = append(r.Base, mibDuration(base))
		fmt.Printf("   rep %-4d weir server VmRSS %s   sleep %s\n", i+1, mib(rss), mib(base))
	}
	med := func(xs []int64) int64 {
		fs := make([]float64, len(xs))
		for i, x := range xs {
			fs[i] = float64(x)
		}
		return int64(median(fs))
	}
	verdict := "met"
	if med(servers) > serverRSSTarget {
		verdict = "NOT met"
	}
	r.Info = append(r.Info,
		fmt.Sprintf("target idle VmRSS <= %s: %s (median %s; baseline `sleep 10` %s; the time columns and BENCH_JSON's *_ms fields of this benchmark hold MiB)",
			mib(serverRSSTarget), verdict, mib(med(servers)), mib(med(sleeps))),
		fmt.Sprintf("idle server's resident pages (medians): anonymous (heap, stacks, runtime) %s, file-backed (the binary's pages touched so far, shared libraries) %s; peak VmHWM %s",
			mib(int64(median(anon))), mib(int64(median(file))), mib(int64(median(hwm)))))
	if rssAfterLoad > 0 {
		v := "met"
		if rssAfterLoad > serverRSSTarget {
			v = "NOT met"
		}
		r.Info = append(r.Info, fmt.Sprintf("after load: the last server-500-runs server, idle %s after its %d runs ended: VmRSS %s (target %s: %s)",
			serverIdleWait, serverRuns, mib(rssAfterLoad), mib(serverRSSTarget), v))
	} else {
		r.Info = append(r.Info, "after load: not measured (server-500-runs did not run before this benchmark)")
	}
	return r, nil
}
