// logs_driver.go: measures Brummer's log store (internal/logs) on the lines our bench_log
// generates. Part of bench/fidelity.sh, which copies this file into a throwaway copy of the
// user's internal/logs (package logs, so it can time the store's own per-line detection)
// next to logs_main.go; nothing of Brummer's is kept in this repository.
//
// Each measure prints one line "fidelity-log NAME VALUE UNIT", the same names and units as
// `bench_log --fidelity` prints for the model:
//
//	search_ms      median of REPS Search("error") over a full store of 10 000 lines
//	add_queued_ns  p50 of the Add calls of a 200 000-line burst that went to the channel
//	add_sync_ns    p50 of those that found the channel full and stored themselves
//	ingest20k_lps  lines/s of 20 000 Adds into a full store, until all are stored
//	ingest200k_lps the same for 200 000
//	detect_ns      the store's per-line work outside the lock's bookkeeping: level, tags,
//	               priority and URL detection, per line
package logs

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"sort"
	"time"
)

const fbCapacity = 10000

func fbReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

func fbProc(i int) string { return fmt.Sprintf("proc-%d", i%4) }

// fbSettle waits until the store's channel is empty and its last addSync has returned.
func fbSettle(s *Store) {
	ch := reflect.ValueOf(s).Elem().FieldByName("addChan")
	for ch.Len() > 0 {
		time.Sleep(100 * time.Microsecond)
	}
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // the lock is the barrier
}

func fbFilled(lines []string) *Store {
	s := NewStore(fbCapacity, nil)
	for i := 0; i < fbCapacity; i++ {
		s.addSync(fbProc(i), fbProc(i), lines[i%len(lines)], false)
	}
	return s
}

func fbMedian(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func fbIngest(lines []string, n int) float64 {
	s := fbFilled(lines)
	defer s.Close()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		s.Add(fbProc(i), fbProc(i), lines[i%len(lines)], false)
	}
	fbSettle(s)
	return float64(n) / time.Since(t0).Seconds()
}

// FbFidelity runs one measure (see the file's comment) and prints its line.
func FbFidelity(measure, linesPath string, reps int) error {
	lines, err := fbReadLines(linesPath)
	if err != nil || len(lines) == 0 {
		return fmt.Errorf("cannot read lines from %s: %v", linesPath, err)
	}
	switch measure {
	case "search_ms":
		s := fbFilled(lines)
		defer s.Close()
		v := make([]float64, 0, reps)
		for r := 0; r < reps; r++ {
			t0 := time.Now()
			s.Search("error")
			v = append(v, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		fmt.Printf("fidelity-log search_ms %.3f ms\n", fbMedian(v))
	case "add":
		s := fbFilled(lines)
		defer s.Close()
		ch := reflect.ValueOf(s).Elem().FieldByName("addChan")
		var queued, sync []float64
		for i := 0; i < 200000; i++ {
			full := ch.Len() == ch.Cap()
			t0 := time.Now()
			s.Add(fbProc(i), fbProc(i), lines[i%len(lines)], false)
			ns := float64(time.Since(t0).Nanoseconds())
			if full {
				sync = append(sync, ns)
			} else {
				queued = append(queued, ns)
			}
		}
		fbSettle(s)
		fmt.Printf("fidelity-log add_queued_ns %.0f ns (%d calls)\n", fbMedian(queued), len(queued))
		fmt.Printf("fidelity-log add_sync_ns %.0f ns (%d calls)\n", fbMedian(sync), len(sync))
	case "ingest":
		fmt.Printf("fidelity-log ingest20k_lps %.0f lines/s\n", fbIngest(lines, 20000))
		fmt.Printf("fidelity-log ingest200k_lps %.0f lines/s\n", fbIngest(lines, 200000))
	case "detect_ns":
		s := NewStore(fbCapacity, nil)
		defer s.Close()
		t0 := time.Now()
		n := 0
		for r := 0; r < reps; r++ {
			for _, l := range lines {
				s.detectLogLevel(l, false)
				s.extractTags(l)
				s.calculatePriority(l, false)
				detectURLs(l)
				n++
			}
		}
		fmt.Printf("fidelity-log detect_ns %.0f ns\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	default:
		return fmt.Errorf("unknown measure %q", measure)
	}
	return nil
}
