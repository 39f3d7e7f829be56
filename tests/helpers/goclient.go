// goclient: a Go TCP client for the seccomp front end's tests. Go makes raw
// system calls (no libc), so LD_PRELOAD never reaches it.
//
//	goclient [-r] HOST:PORT [N]
//
// N sequential connections (default 1); for each, after reading the server's
// answer to EOF, prints "local ADDR PORT" (as the kernel reports it) or
// "error ERRNAME". Each connection runs in a goroutine of its own while the
// main one waits, so the runtime's threads make the calls. -r: set
// SO_REUSEADDR on each socket before its connect (a net.Dialer Control).
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

var names = map[syscall.Errno]string{
	syscall.ECONNREFUSED:  "ECONNREFUSED",
	syscall.ENETUNREACH:   "ENETUNREACH",
	syscall.EACCES:        "EACCES",
	syscall.EPERM:         "EPERM",
	syscall.EHOSTUNREACH:  "EHOSTUNREACH",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
	syscall.ETIMEDOUT:     "ETIMEDOUT",
	syscall.ENOSYS:        "ENOSYS",
}

var reuse bool

func one(addr string) string {
	d := net.Dialer{Timeout: 5 * time.Second}
	if reuse {
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		var e syscall.Errno
		if errors.As(err, &e) {
			if n, ok := names[e]; ok {
				return "error " + n
			}
			return "error errno-" + strconv.Itoa(int(e))
		}
		return "error " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c)
	l := c.LocalAddr().(*net.TCPAddr)
	return fmt.Sprintf("local %s %d", l.IP.String(), l.Port)
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "-r" {
		reuse = true
		args = args[1:]
	}
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: goclient [-r] HOST:PORT [N]")
		os.Exit(2)
	}
	n := 1
	if len(args) > 1 {
		n, _ = strconv.Atoi(args[1])
	}
	for i := 0; i < n; i++ {
		done := make(chan string)
		go func() { done <- one(args[0]) }()
		fmt.Println(<-done)
	}
}
