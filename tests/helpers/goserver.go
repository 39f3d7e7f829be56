// goserver: a Go TCP server as Go programs write one, for the seccomp front
// end's dual-stack tests. net.Listen(NETWORK, ADDR): "tcp" with 0.0.0.0
// opens an AF_INET6 socket with IPV6_V6ONLY=0 and binds [::] (a dual-stack
// wildcard), "tcp6" with [::] one with IPV6_V6ONLY=1. Prints the listener's
// address, answers one client with the local address it accepted on, exits
// (or after 10 s without a client).
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goserver tcp|tcp6 ADDR:PORT")
		os.Exit(2)
	}
	ln, err := net.Listen(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Println("listen error:", err)
		os.Exit(1)
	}
	fmt.Println("listening", ln.Addr().String())
	go func() {
		time.Sleep(10 * time.Second)
		os.Exit(3)
	}()
	c, err := ln.Accept()
	if err != nil {
		fmt.Println("accept error:", err)
		os.Exit(1)
	}
	fmt.Fprintln(c, c.LocalAddr().String())
	c.Close()
	ln.Close()
}
