// driver.go: drives Brummer's EventBus (pkg/events) with one scenario of the seed's
// benchmarkEventBusScenario and prints its cost per published event. Part of
// bench/fidelity.sh, which copies this file and the user's pkg/events into a throwaway
// module and builds them with Debian's Go; nothing of Brummer's is kept in this repository.
//
// usage: driver NAME PUBLISHERS EVENTS HANDLERS SLEEP_NS
//
// The seed's scenario: HANDLERS handlers subscribed to LogLine, each sleeping SLEEP_NS
// (time.Sleep, as the seed's handler sleeps 10us; 0 means the handler returns at once);
// PUBLISHERS goroutines publish EVENTS/PUBLISHERS LogLine events each, with the seed's
// payload. The wall time runs from the moment every publisher is started and released
// together until the last one returns from its last Publish (the seed's duration, without
// the start of the publishers, which the model's side cannot count the same way), divided by
// the events published. Handler calls still sleeping then are not waited for, as in the
// seed; the driver waits afterwards (at most 10 s) until the spawned calls have ended, so
// nothing is left running. The handlers count nothing: a counter shared by every call cost
// Brummer's side 5-7 % of its time with handlers that return at once (perf), and the seed's
// handlers have none.
//
// Output, one line: fidelity NAME ns_per_event=N events=E calls=C goroutines=G gcs=K
// alloc_per_event=B: goroutines alive when the last publisher returned, garbage collections
// and bytes allocated per event while publishing (GOGC=off in the environment turns the
// collector off, to see what it costs).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"fbfidelity/events"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: driver NAME PUBLISHERS EVENTS HANDLERS SLEEP_NS")
	os.Exit(2)
}

func atoi(s string, min int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < min {
		usage()
	}
	return n
}

func main() {
	if len(os.Args) != 6 {
		usage()
	}
	name := os.Args[1]
	publishers := atoi(os.Args[2], 1)
	total := atoi(os.Args[3], 1)
	handlers := atoi(os.Args[4], 0)
	sleep := time.Duration(atoi(os.Args[5], 0))
	each := total / publishers
	if each < 1 {
		usage()
	}

	eb := events.NewEventBus()
	for i := 0; i < handlers; i++ {
		eb.Subscribe(events.LogLine, func(e events.Event) {
			if sleep > 0 {
				time.Sleep(sleep)
			}
		})
	}
	idle := runtime.NumGoroutine() // main, the bus's workers and the runtime's own

	var ready, finished sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(publishers)
	finished.Add(publishers)
	for i := 0; i < publishers; i++ {
		go func() {
			defer finished.Done()
			ready.Done()
			<-gate
			for j := 0; j < each; j++ {
				eb.Publish(events.Event{
					Type: events.LogLine,
					Data: map[string]interface{}{"test": "data"},
				})
			}
		}()
	}
	ready.Wait()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	close(gate)
	finished.Wait()
	elapsed := time.Since(start)
	goroutines := runtime.NumGoroutine()
	runtime.ReadMemStats(&after)

	published := int64(each * publishers)
	calls := published * int64(handlers)
	fmt.Printf("fidelity %s ns_per_event=%.1f events=%d calls=%d goroutines=%d gcs=%d alloc_per_event=%.0f\n",
		name, float64(elapsed.Nanoseconds())/float64(published), published, calls, goroutines,
		after.NumGC-before.NumGC, float64(after.TotalAlloc-before.TotalAlloc)/float64(published))

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > idle && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	eb.Shutdown()
}
