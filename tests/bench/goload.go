// goload: a Go load generator for the seccomp benchmark (82-seccomp-go.sh).
// Go makes raw system calls (no libc), so only sockshim --seccomp reaches it.
//
//	goload HOST:PORT N G SECONDS
//
// G goroutines make N TCP connections in total to HOST:PORT, each a
// net.Dial and a Close (the runtime's own non-blocking connect, epoll and
// SO_ERROR), as fast as they can, and stop early after SECONDS. Prints
// one line:
//
//	n=N done=D elapsed=S rate=R failures=F first_error=E
//
// D connections succeeded; R is D per second from the first dial to the
// last close; E is the first failure's text with spaces as underscores.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: goload HOST:PORT N G SECONDS")
		os.Exit(2)
	}
	addr := os.Args[1]
	n, err1 := strconv.ParseInt(os.Args[2], 10, 64)
	g, err2 := strconv.Atoi(os.Args[3])
	secs, err3 := strconv.ParseFloat(os.Args[4], 64)
	if err1 != nil || err2 != nil || err3 != nil || n < 1 || g < 1 || secs <= 0 {
		fmt.Fprintln(os.Stderr, "goload: bad arguments")
		os.Exit(2)
	}
	var next, done, failures int64
	var first atomic.Value
	start := time.Now()
	deadline := start.Add(time.Duration(secs * float64(time.Second)))
	d := net.Dialer{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= n && time.Now().Before(deadline) {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					atomic.AddInt64(&failures, 1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				c.Close()
				atomic.AddInt64(&done, 1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fe := "none"
	if v := first.Load(); v != nil {
		fe = strings.ReplaceAll(v.(string), " ", "_")
	}
	fmt.Printf("n=%d done=%d elapsed=%.3f rate=%.0f failures=%d first_error=%s\n",
		n, done, el, float64(done)/el, failures, fe)
}
