"""The guard: a process beside the controller that keeps calls flowing when it fails."""
