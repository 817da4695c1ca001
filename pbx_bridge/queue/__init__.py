"""The 112 queue: call takers (app_queue members over AMI) and what the queue's events say."""
