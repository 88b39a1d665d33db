// Signing in to the desk: the session cookie is HttpOnly and SameSite=Strict; the CSRF token comes
// back in the answer and goes with every change.

import { api, ApiError, setCsrf } from "./api.js";

export async function currentUser() {
  try {
    const answer = await api("GET", "/desk/api/me");
    setCsrf(answer.csrf_token);
    return answer.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

// Show the sign-in form until someone signs in; resolves with the user.
export function signIn(section) {
  const form = section.querySelector("form");
  const error = section.querySelector(".login-error");
  section.hidden = false;
  form.elements.username.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const answer = await api("POST", "/desk/api/login", {
          username: form.elements.username.value.trim(),
          password: form.elements.password.value,
        });
        setCsrf(answer.csrf_token);
        form.reset();
        section.hidden = true;
        resolve(answer.user);
      } catch (failure) {
        error.textContent = failure.message;
        form.elements.password.select();
      } finally {
        button.disabled = false;
      }
    });
  });
}

export async function signOut() {
  try {
    await api("POST", "/desk/api/logout", {});
  } finally {
    location.reload();
  }
}

// Links in the header that only some roles may use: <a data-roles="designer supervisor" hidden>.
export function showRoleLinks(user) {
  for (const link of document.querySelectorAll("[data-roles]")) {
    link.hidden = !link.dataset.roles.split(/\s+/).includes(user.role);
  }
}
