// logs_main.go: the command around logs_driver.go (see there); bench/fidelity.sh builds it
// inside a throwaway copy of the user's Brummer module.
//
// usage: logsdriver MEASURE LINES_FILE REPS
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/standardbeagle/brummer/internal/logs"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: logsdriver MEASURE LINES_FILE REPS")
		os.Exit(2)
	}
	reps, err := strconv.Atoi(os.Args[3])
	if err != nil || reps < 1 {
		fmt.Fprintln(os.Stderr, "logsdriver: REPS must be a positive integer")
		os.Exit(2)
	}
	if err := logs.FbFidelity(os.Args[1], os.Args[2], reps); err != nil {
		fmt.Fprintln(os.Stderr, "logsdriver:", err)
		os.Exit(1)
	}
}
