"""药监云 Yaojian — smart drug-regulation platform."""
