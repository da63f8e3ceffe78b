"""Model adapters behind the agent's ports: embeddings, language identification."""
