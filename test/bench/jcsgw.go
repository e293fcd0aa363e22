package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a jcsgw subprocess.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	addr   string // 127.0.0.1:port
	url    string
	ak, sk string
	log    string // its stderr
	exited chan error
}

const (
	benchAK = "BENCHACCESSKEY0001"
	benchSK = "bench-secret-key-0123456789abcdef"
)

// moduleRoot is the directory of jcsgw's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the jcsgw module: run from the repository")
	}
	return filepath.Dir(gomod), nil
}

// buildJcsgw builds ./cmd/jcsgw into dir.
func buildJcsgw(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "jcsgw")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/jcsgw")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/jcsgw: %v\n%s", err, out)
	}
	return bin, nil
}

// sourceVersion is the commit of the tree jcsgw is built from, with
// "+dirty" when it has uncommitted changes ("" if git cannot tell).
func sourceVersion(ctx context.Context) string {
	root, err := moduleRoot(ctx)
	if err != nil {
		return ""
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		v += "+dirty"
	}
	return v
}

// freeAddr finds a free port on 127.0.0.1.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startJcsgw runs bin serve over dataDir on a free loopback port and waits
// until /healthz answers. The child is killed if this process dies
// (Pdeathsig); stop it with proc.stop.
func startJcsgw(ctx context.Context, bin, dataDir, logPath string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf2, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &proc{addr: addr, url: "http://" + addr, ak: benchAK, sk: benchSK, log: logPath, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve", "--addr", addr, "--data", dataDir, "--access-key", p.ak, "--secret-key", p.sk)
	p.cmd.Stdout, p.cmd.Stderr = logf2, logf2
	if err := p.spawn(func() { logf2.Close() }); err != nil {
		logf2.Close()
		return nil, err
	}
	if err := p.waitReady(ctx, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// spawn starts p.cmd so that it dies with this process (Pdeathsig) and
// reports its end on p.exited; after runs once it has ended.
func (p *proc) spawn(after func()) error {
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	// Pdeathsig fires when the *thread* that forked exits, so fork from a
	// locked thread that lives as long as the child.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.exited <- p.cmd.Wait()
		after()
	}()
	if err := <-started; err != nil {
		return err
	}
	p.pid = p.cmd.Process.Pid
	return nil
}

func (p *proc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("jcsgw exited at start: %v (log: %s)", err, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := c.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("jcsgw not ready after %v (log: %s)", limit, p.tail())
}

// stop ends the subprocess: SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		p.exited <- <-p.exited
	}
}

// tail is the end of the server's log.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// memInfo is a process's memory, in bytes, from /proc/PID/status: resident
// (VmRSS), its peak (VmHWM), and the anonymous part of the resident set
// (RssAnon: heap and stacks, without file mappings such as bbolt's mmap).
type memInfo struct{ rss, hwm, anon int64 }

func (p *proc) memory() (memInfo, error) {
	var m memInfo
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			m.rss = n * 1024
		case "VmHWM":
			m.hwm = n * 1024
		case "RssAnon":
			m.anon = n * 1024
		}
	}
	return m, sc.Err()
}

// resetPeak resets VmHWM to the current RSS (Linux clear_refs 5).
func (p *proc) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0)
}

// procTicks is a process's (pid 0 = this one) user and system CPU time, in
// clock ticks.
func procTicks(pid int) (user, sys int64) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	// Fields after "(comm) ": state is [0], utime [11], stime [12].
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0
	}
	user, _ = strconv.ParseInt(f[11], 10, 64)
	sys, _ = strconv.ParseInt(f[12], 10, 64)
	return user, sys
}

// machineTicks reads the machine's user (with nice) and steal time from
// /proc/stat. Steal is time the hypervisor ran something else while this
// VM wanted a CPU: it slows every process here and no process's CPU shows it.
func machineTicks() (user, steal int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "cpu" {
		return 0, 0
	}
	u, _ := strconv.ParseInt(f[1], 10, 64)
	n, _ := strconv.ParseInt(f[2], 10, 64)
	if len(f) > 8 {
		steal, _ = strconv.ParseInt(f[8], 10, 64)
	}
	return u + n, steal
}

// clockTicks per second: USER_HZ, 100 on every Linux we run on.
const clockTicks = 100

// cpuUse is CPU time over wall time, in % of one core: the server
// subprocess, this process, and the user time of every other process on the
// machine (other work that competes for the same cores and skews figures),
// and the time the hypervisor stole from this VM's CPUs.
type cpuUse struct {
	server, client, others, steal float64
	ok                            bool
}

// cpuMeter measures CPU use over an interval.
type cpuMeter struct {
	pid                    int
	t0                     time.Time
	srvU, srvS, cliU, cliS int64
	machineUser, steal     int64
}

func meterCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, t0: time.Now()}
	m.machineUser, m.steal = machineTicks()
	m.cliU, m.cliS = procTicks(0)
	if pid > 0 {
		m.srvU, m.srvS = procTicks(pid)
	}
	return m
}

func (m *cpuMeter) stop() cpuUse {
	wall := time.Since(m.t0).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / wall * 100 }
	cu, cs := procTicks(0)
	u := cpuUse{ok: true, client: pct(cu - m.cliU + cs - m.cliS)}
	ours := cu - m.cliU
	if m.pid > 0 {
		su, ss := procTicks(m.pid)
		u.server = pct(su - m.srvU + ss - m.srvS)
		ours += su - m.srvU
	}
	user, steal := machineTicks()
	u.others = max(0, pct(user-m.machineUser-ours))
	u.steal = max(0, pct(steal-m.steal))
	return u
}
