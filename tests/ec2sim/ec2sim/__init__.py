"""ec2sim: an EC2 Query API + IMDSv2 emulator for ec2ha's tests (Python stdlib only).

See tests/ec2sim/README.md.  Entry points: `python3 -m ec2sim` (CLI), `ec2sim.testing`
(Python API), `ec2sim.pytest_plugin` (fixtures `ec2sim`, `ec2sim_factory`).
"""
__version__ = "1.0"
