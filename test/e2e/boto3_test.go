package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBoto3(t *testing.T) {
	py := need(t, "python3")
	if exec.Command(py, "-c", "import boto3").Run() != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("boto3 is not importable by python3")
		}
		t.Skip("SKIP: boto3 is not installed for python3")
	}
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "boto3_check.py", s.URL, s.Access, s.Secret)
	cmd.Env = append(clientEnv(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	steps := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "STEP ")
		if !ok {
			continue
		}
		name, verdict, _ := strings.Cut(line, ": ")
		steps++
		step(t, "boto3", name, func(t *testing.T) {
			assert.Equal(t, "ok", verdict, "%s\n%s", verdict, stderr.String())
		})
	}
	assert.Equal(t, 5, steps, "every boto3 step reports; stderr:\n%s", stderr.String())
	assert.NoError(t, err, stderr.String())
}
