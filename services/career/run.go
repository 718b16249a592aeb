/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package career

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/skillmesh/skillmesh/services/platform/app"
	"github.com/skillmesh/skillmesh/services/platform/client"
	"github.com/skillmesh/skillmesh/services/platform/settings"
	"github.com/skillmesh/skillmesh/services/skills"
)

// Settings are career's own, under CAREER_; SKILLS_URL is injected by the
// operator from spec.dependsOn.
type Settings struct {
	SkillsURL     string        `env:"SKILLS_URL,required"`
	SkillsTimeout time.Duration `env:"CAREER_SKILLS_TIMEOUT" envDefault:"2s"`
}

// Run starts the career service and serves until ctx ends.
func Run(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error {
	var cfg Settings
	if err := settings.Load(src, &cfg); err != nil {
		return err
	}
	a, err := app.Start(ctx, "career", "CAREER_", src, stderr)
	if err != nil {
		return err
	}
	sk, err := skills.NewClient(cfg.SkillsURL, client.Options{Timeout: cfg.SkillsTimeout})
	if err != nil {
		a.Close()
		return fmt.Errorf("settings: SKILLS_URL: %w", err)
	}
	svc, err := NewService(ctx, a.DB, sk, a.Relay)
	if err != nil {
		a.Close()
		return err
	}
	if a.Broker != nil && a.Subscribes(skills.TopicAssessed) {
		a.Go(func(ctx context.Context) error {
			return a.Broker.Subscribe(ctx, skills.TopicAssessed, svc.HandleAssessed)
		})
	}
	return a.Serve(ctx, NewServer(svc, a.Checker, a.Registry, a.Logger), ln)
}
