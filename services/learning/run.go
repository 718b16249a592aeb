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

package learning

import (
	"context"
	"io"
	"net"

	"github.com/skillmesh/skillmesh/services/career"
	"github.com/skillmesh/skillmesh/services/platform/app"
	"github.com/skillmesh/skillmesh/services/platform/settings"
)

// Run starts the learning service and serves until ctx ends.
func Run(ctx context.Context, src settings.Source, stderr io.Writer, ln net.Listener) error {
	a, err := app.Start(ctx, "learning", "LEARNING_", src, stderr)
	if err != nil {
		return err
	}
	svc, err := NewService(ctx, a.DB)
	if err != nil {
		a.Close()
		return err
	}
	if a.Broker != nil && a.Subscribes(career.TopicPlanUpdated) {
		a.Go(func(ctx context.Context) error {
			return a.Broker.Subscribe(ctx, career.TopicPlanUpdated, svc.HandlePlanUpdated)
		})
	}
	return a.Serve(ctx, NewServer(svc, a.Checker, a.Registry, a.Logger), ln)
}
