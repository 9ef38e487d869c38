"""Operations of the local stack: readiness probes, connector rendering and registration checks, status."""
