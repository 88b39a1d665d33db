// The demo shop's own script: buttons that open the chat widget (window.FetchAndHomeChat).
for (const button of document.querySelectorAll("[data-open-chat]")) {
  button.addEventListener("click", () => window.FetchAndHomeChat?.open());
}
