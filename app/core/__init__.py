"""What every domain uses: tenancy, auth, audit, queue, events, storage, errors."""
