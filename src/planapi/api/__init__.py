"""The GraphQL API: types kept apart from storage, results as unions of success and errors."""
